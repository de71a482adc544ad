"""Live transcript of operator calls: Twilio Media Streams decoded by Vosk as they arrive."""
