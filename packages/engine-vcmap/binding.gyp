{
  "targets": [
    {
      "target_name": "engine_vcmap",
      "sources": ["src/vcmap.cc", "src/addon.cc"],
      "dependencies": ["<!(node -p \"require('@pmemkv/native-pmemobj/engine-gyp')\"):pmemkv_engine"]
    }
  ]
}
