"""`bedrock-ext report`: one self-contained HTML page (inline SVG charts, no script, no network)
over the published marts."""
