"""What the bot says and asks, as data: YAML files plus the schema and loader that check them."""
