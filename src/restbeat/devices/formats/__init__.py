"""One module per file format: a reader (path -> RRRecording) and, where restbeat exports it, a writer."""
