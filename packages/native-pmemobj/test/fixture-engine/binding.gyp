{
  "targets": [
    {
      "target_name": "fixture",
      "sources": ["fixture_engine.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!(node -p \"require('@pmemkv/native-pmemobj/include')\")"
      ],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions"],
      "defines": ["NAPI_VERSION=8"],
      "libraries": ["-lpmemobj", "-lpmem"]
    }
  ]
}
