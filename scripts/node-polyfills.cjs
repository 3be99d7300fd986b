// js-ipfs 0.66's dependencies call Promise.withResolvers (Node 22); Debian's Node 20 lacks it.
// Loaded with `node --require` by the test IPFS node (tests/python/core/test_kubo.py) only.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}
