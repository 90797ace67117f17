"""Medborgarlöften: register model, follow-up, underlag and draft."""
