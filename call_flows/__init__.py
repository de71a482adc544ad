"""Call flows as data, the engine that renders them to TwiML, and the working-day calendar."""
