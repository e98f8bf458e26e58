suid
