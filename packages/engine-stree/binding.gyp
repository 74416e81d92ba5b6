{
  "targets": [
    {
      "target_name": "engine_stree",
      "sources": ["src/stree.cc", "src/stree_write.cc", "src/stree_cursor.cc", "src/stree_verify.cc", "src/stree_slabs.cc", "src/addon.cc"],
      "dependencies": ["<!(node -p \"require('@pmemkv/native-pmemobj/engine-gyp')\"):pmemkv_engine"]
    }
  ]
}
