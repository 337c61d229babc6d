"""The Discord adapter (discord.py 2): slash commands in, core calls, embeds out."""
