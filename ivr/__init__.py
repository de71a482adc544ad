"""Twilio webhooks (thin), signature checks, the call log and the terminal phone."""
