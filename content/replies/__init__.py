"""Views turned into neutral messages: how every answer and push looks, on every platform."""
