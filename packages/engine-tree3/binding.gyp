{
  "targets": [
    {
      "target_name": "tree3",
      "sources": ["src/addon.cc", "src/tree3.cc", "src/inner_tree.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!(node -p \"require('@pmemkv/native-pmemobj/include')\")"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions"],
      "libraries": ["-lpmemobj"]
    }
  ]
}
