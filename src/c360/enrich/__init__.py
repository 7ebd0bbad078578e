"""Keyword classification (SPEC 2.7): an LLM over the OpenAI protocol, with durable answers."""
