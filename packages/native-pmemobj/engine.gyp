# The build settings every engine addon shares (C++17 with exceptions, N-API 8, the SDK and
# node-addon-api headers, libpmemobj), as a target to depend on. An engine's binding.gyp is
# then its name and sources only:
#   {"targets": [{"target_name": "engine_cmap", "sources": ["src/cmap.cc", "src/addon.cc"],
#     "dependencies": ["<!(node -p \"require('@pmemkv/native-pmemobj/engine-gyp')\"):pmemkv_engine"]}]}
{
  "targets": [
    {
      "target_name": "pmemkv_engine",
      "type": "none",
      "direct_dependent_settings": {
        "include_dirs": [
          "<!(node -p \"require('node-addon-api').include_dir\")",
          "include"
        ],
        "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
        "cflags_cc": ["-std=c++17", "-O2", "-fexceptions"],
        "defines": ["NAPI_VERSION=8"],
        "libraries": ["-lpmemobj", "-lpmem"]
      }
    }
  ]
}
