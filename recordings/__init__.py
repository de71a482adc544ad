"""Where voicemail audio lives: one small store interface, a local and an S3 backend.

See docs/deploy.md (multi-node) and docs/transcription.md (how recordings are stored).
"""
