"""Pure rules of delivery: who gets what, when to retry, how payloads look. No I/O."""
