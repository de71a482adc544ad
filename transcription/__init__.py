"""Voicemail transcription: audio normalisation, the Vosk engine, model install, Chinese text."""
