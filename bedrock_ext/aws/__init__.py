"""Talking to AWS: the boto3 client module (the only boto3 importer), the build's runtime (local
emulator or AWS), batch jobs (``jobs``: state, identity, the client; ``runner``: create,
re-attach, poll) and the on-demand path. Imports ``request`` and ``errors`` only."""
