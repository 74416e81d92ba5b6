{
  "targets": [
    {
      "target_name": "engine_csmap",
      "sources": ["src/csmap.cc", "src/epoch.cc", "src/hash_index.cc", "src/seek_index.cc", "src/addon.cc"],
      "dependencies": ["<!(node -p \"require('@pmemkv/native-pmemobj/engine-gyp')\"):pmemkv_engine"]
    }
  ]
}
