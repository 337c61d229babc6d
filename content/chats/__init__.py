"""Chats as the platforms name them, and what they follow."""
