{
  "targets": [
    {
      "target_name": "engine_radix",
      "sources": ["src/radix.cc", "src/cursor.cc", "src/verify.cc", "src/addon.cc"],
      "dependencies": ["<!(node -p \"require('@pmemkv/native-pmemobj/engine-gyp')\"):pmemkv_engine"]
    }
  ]
}
