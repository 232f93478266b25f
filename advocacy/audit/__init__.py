"""The audit log: who did what to which object, when; never what it contained."""
