// The faros executable: placeholder until the server is wired.
print("faros")
