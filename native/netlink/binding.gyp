{
  "targets": [
    {
      "target_name": "kovpn_netlink",
      "sources": [
        "src/addon.cc",
        "src/aead.cc",
        "src/args.cc",
        "src/errors.cc",
        "src/ethtool.cc",
        "src/netlink.cc",
        "src/poller.cc",
        "src/tcp.cc",
        "src/tun.cc",
        "src/udp.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"]
    }
  ]
}
