{
  "targets": [
    {
      "target_name": "fixture",
      "sources": ["fixture_engine.cc"],
      "dependencies": ["../../engine.gyp:pmemkv_engine"],
      "libraries": ["-lpmem"]
    }
  ]
}
