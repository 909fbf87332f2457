"""Entry points only: the FastAPI app and the `rag` command line. Both parse input, call one core
function, and format output."""
