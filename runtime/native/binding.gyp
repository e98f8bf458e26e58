{
  "targets": [
    {
      "target_name": "tsbuild_sys",
      "sources": ["sys.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
