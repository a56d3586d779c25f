"""What restbeat says around every prompt and message: the wellbeing framing, the breathing safety line
and the escalation card (the brief, section 5.4).  Plain text for the terminal, the replay and reports."""

from __future__ import annotations

from dataclasses import dataclass

from restbeat.recovery.practices import Practice

NOT_A_MEDICAL_DEVICE = (
    "restbeat is a wellbeing tool, not a medical device: "
    "it does not diagnose, treat or prevent any condition."
)
HRV_CONFOUNDERS = (
    "Heart-rate variability also changes with movement, posture, caffeine, alcohol, illness, medication "
    "and heart rhythm differences."
)
BREATHING_SAFETY = "Breathe gently, not deeply. Stop if you feel dizzy or light-headed and breathe normally."
URGENT_CARE = (
    "If you have chest pain, fainting, severe breathlessness, or a racing or irregular heartbeat "
    "that doesn't settle, seek urgent medical care."
)
ESCALATION_CARD = (
    "Your recovery has been low for two weeks or more. That is worth taking seriously, and you don't "
    "have to handle it alone: talk to someone you trust, and consider your GP, your employee assistance "
    "programme or a mental-health professional. If you are thinking of harming yourself, contact your "
    "local emergency number or a crisis line now (for example, call or text 988 in the US)."
)


@dataclass(frozen=True, slots=True)
class Card:
    """A prompt as shown: title, why now, steps, duration (s), safety lines and the footer."""

    title: str
    why: str
    steps: tuple[str, ...]
    duration_s: int
    safety: tuple[str, ...]
    footer: str

    def lines(self) -> list[str]:
        """The card as plain text lines."""
        minutes = f"{self.duration_s / 60:g} min" if self.duration_s else "when you are ready"
        body = [f"{self.title} ({minutes})", f"Why now: {self.why}"]
        body += [f"  {number}. {step}" for number, step in enumerate(self.steps, start=1)]
        return body + list(self.safety) + [self.footer]


def practice_card(practice: Practice, why: str) -> Card:
    """The card for ``practice`` offered because of ``why`` (a reason's text); breathing carries the
    safety line, the professional-help practice the escalation card."""
    safety = tuple(line for line in (practice.safety,) if line)
    if practice.id == "paced-breathing" and BREATHING_SAFETY not in safety:
        safety = (BREATHING_SAFETY,)
    if practice.id == "talk-to-a-professional":
        safety = (*safety, ESCALATION_CARD)
    return Card(practice.name, why, practice.steps, practice.duration_s, safety, NOT_A_MEDICAL_DEVICE)
