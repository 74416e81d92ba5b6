{
  "targets": [
    {
      "target_name": "engine_vmap",
      "sources": ["src/vmap.cc", "src/addon.cc"],
      "dependencies": ["<!(node -p \"require('@pmemkv/native-pmemobj/engine-gyp')\"):pmemkv_engine"]
    }
  ]
}
