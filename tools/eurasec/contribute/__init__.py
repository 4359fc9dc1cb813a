"""The contributor tools: fmt, diff, quote, add-document and the generated docs."""
