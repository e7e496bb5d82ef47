"""Pure building blocks both programs stand on: field rules, positioned YAML, style and contrast, atomic files."""
