"""Document profiles: what each document is and is about (title, organisations, period, kind, language, outline),
found from its layout HTML, its file name and its PDF metadata (routing questions over them: `rag.retrieval.routing`)."""
