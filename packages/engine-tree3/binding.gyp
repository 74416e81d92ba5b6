{
  "targets": [
    {
      "target_name": "engine_tree3",
      "sources": ["src/tree3.cc", "src/inner_tree.cc", "src/addon.cc"],
      "dependencies": ["<!(node -p \"require('@pmemkv/native-pmemobj/engine-gyp')\"):pmemkv_engine"]
    }
  ]
}
