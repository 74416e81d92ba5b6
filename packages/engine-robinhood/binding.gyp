{
  "targets": [
    {
      "target_name": "engine_robinhood",
      "sources": ["src/robinhood.cc", "src/addon.cc"],
      "dependencies": ["<!(node -p \"require('@pmemkv/native-pmemobj/engine-gyp')\"):pmemkv_engine"]
    }
  ]
}
