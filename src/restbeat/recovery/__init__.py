"""Pure recovery decisions: personal baselines, the in-shift assessment and the recommender.

No I/O, no clock: times come in as arguments."""
