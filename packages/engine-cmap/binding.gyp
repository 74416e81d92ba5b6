{
  "targets": [
    {
      "target_name": "engine_cmap",
      "sources": ["src/cmap.cc", "src/addon.cc"],
      "dependencies": ["<!(node -p \"require('@pmemkv/native-pmemobj/engine-gyp')\"):pmemkv_engine"]
    }
  ]
}
