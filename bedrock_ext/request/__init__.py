"""What one request is: the task (prompt, answer schema), the model catalog and families, request
bodies and keys (Python and their SQL twin), prices, and every check of a setting that would fail
at AWS. Imports nothing of bedrock_ext but ``errors``."""
