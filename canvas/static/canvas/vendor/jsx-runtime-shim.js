/* The automatic JSX runtime (`react/jsx-runtime`) that the @xyflow/react UMD build
   expects as the global `jsxRuntime`, on top of the React UMD global: jsx(type,
   props, key) is createElement(type, {...props, key}). React 18 has no UMD build of
   the runtime itself. Part of this project (same licence as the project). */
(function (global) {
  "use strict";
  var React = global.React;
  function jsx(type, props, key) {
    var p = props || {};
    if (key !== undefined) {
      var copy = {};
      for (var name in p) if (Object.prototype.hasOwnProperty.call(p, name)) copy[name] = p[name];
      copy.key = key;
      p = copy;
    }
    return React.createElement(type, p);
  }
  global.jsxRuntime = { jsx: jsx, jsxs: jsx, jsxDEV: jsx, Fragment: React.Fragment };
})(typeof globalThis !== "undefined" ? globalThis : window);
