schema: '1.1' #~ E0654
contents:
  - core.fga
