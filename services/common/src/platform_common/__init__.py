"""Infrastructure shared by every service. No domain types live here."""
