"""Pure rules of incidents: no I/O, no framework imports; time is always an argument."""
