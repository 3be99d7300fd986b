// A test wallet injected into every frame (CDP Page.addScriptToEvaluateOnNewDocument): an
// EIP-1193 provider, announced by EIP-6963 and set as window.ethereum, that forwards to anvil's
// JSON-RPC (anvil signs typed data, messages and transactions for its unlocked development
// accounts). Its state is in localStorage (shared by the page and the component's frame):
// testwallet:account (index into ACCOUNTS), testwallet:chain (the chain it claims to be on),
// testwallet:reject ("1": the next prompt answers 4001, as a user's "Reject"), testwallet:sendonly
// ("1": eth_signTransaction answers 4200, as MetaMask does, so drafts are sent by the wallet),
// testwallet:log.
(() => {
  if (window.__heritageTestWallet) return;
  const RPC = "__RPC__";
  const ACCOUNTS = __ACCOUNTS__;
  const PROMPTS = new Set(["eth_requestAccounts", "eth_signTypedData_v4", "eth_signTransaction", "eth_sendTransaction",
    "personal_sign", "wallet_switchEthereumChain", "wallet_addEthereumChain"]);
  const ls = window.localStorage;
  const get = (key, fallback) => ls.getItem("testwallet:" + key) ?? fallback;
  const listeners = {};
  const emit = (event, arg) => (listeners[event] || []).forEach((f) => f(arg));
  const fail = (code, message) => { const e = new Error(message); e.code = code; return e; };
  let id = 0;
  async function forward(method, params) {
    const response = await fetch(RPC, { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params: params || [] }) });
    const body = await response.json();
    if (body.error) throw fail(body.error.code, body.error.message);
    return body.result;
  }
  const provider = {
    async request({ method, params }) {
      const log = JSON.parse(get("log", "[]"));
      log.push(method);
      ls.setItem("testwallet:log", JSON.stringify(log));
      const account = ACCOUNTS[Number(get("account", "0"))];
      const chain = Number(get("chain", "31337"));
      if (PROMPTS.has(method) && get("reject", "0") === "1") {
        ls.setItem("testwallet:reject", "0");
        throw fail(4001, "User rejected the request.");
      }
      switch (method) {
        case "eth_requestAccounts": ls.setItem("testwallet:connected", "1"); return [account];
        case "eth_accounts": return get("connected", "0") === "1" ? [account] : [];
        case "eth_chainId": return "0x" + chain.toString(16);
        case "wallet_switchEthereumChain": {
          const wanted = parseInt(params[0].chainId, 16);
          if (wanted !== 31337) throw fail(4902, `Unrecognized chain ID ${params[0].chainId}`);
          ls.setItem("testwallet:chain", String(wanted));
          emit("chainChanged", params[0].chainId);
          return null;
        }
        case "wallet_addEthereumChain": return null;
        case "eth_signTransaction":
          if (get("sendonly", "0") === "1") throw fail(4200, "The requested method is not supported by this wallet.");
          return forward(method, params);
        default:
          if (PROMPTS.has(method) && chain !== 31337) throw fail(4901, "the wallet is on another chain");
          return forward(method, params);
      }
    },
    on(event, fn) { (listeners[event] ||= []).push(fn); },
    removeListener(event, fn) { listeners[event] = (listeners[event] || []).filter((f) => f !== fn); },
  };
  window.__heritageTestWallet = provider;
  window.ethereum = provider;
  const info = Object.freeze({ uuid: "5f0c7a1e-8a4b-4c6f-9a51-3f1d2b7e9c10", name: "Heritage test wallet",
    icon: "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 8 8'%3E%3Ccircle cx='4' cy='4' r='4' fill='%23b5651d'/%3E%3C/svg%3E",
    rdns: "org.heritage-ledger.test-wallet" });
  const announce = () => window.dispatchEvent(new CustomEvent("eip6963:announceProvider",
    { detail: Object.freeze({ info, provider }) }));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
})();
