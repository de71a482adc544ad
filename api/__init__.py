"""JSON intake API ``/api/v1`` for the other channels (web platform, WeChat, 甬企码 …)."""
