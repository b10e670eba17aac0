// The translation unit that compiles a precompiled header set (cmake/WibwobPch.cmake).
