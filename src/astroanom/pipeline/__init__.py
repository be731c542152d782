"""Path -> path step functions called by the workflow's thin scripts, one module per rule file."""
