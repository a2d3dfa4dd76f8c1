"""Generate synthetic call-center transcripts (same as `bedrock-ext generate`).

Example: python scripts/generate_transcripts.py --rows 1000000 --out data/transcripts.parquet
"""

import sys

from bedrock_ext.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["generate", *sys.argv[1:]]))
