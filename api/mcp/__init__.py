"""The MCP server of `rag mcp` (stdio): search and ask as tools for assistants that speak the Model Context Protocol."""
