"""Office, web, e-mail and plain-text formats read into the same layout (`ParsedDocument`) as PDFs: one reader
module per format, chosen by `ingest.formats.readers.read_document` from the kind `ingest.parse.sniff` found."""
