// The dashboard's wallet: a Streamlit custom component (plain DOM, no framework).
//
// Discovers injected wallets (EIP-6963 announcements through mipd; window.ethereum as a fallback),
// connects (eth_requestAccounts), shows the account and chain, offers to switch to (or add) the
// platform's chain, and carries out the one request the page hands it: sign EIP-712 typed data
// (eth_signTypedData_v4), sign a Sign-In with Ethereum message (personal_sign) or sign a transaction draft (eth_signTransaction, for the API to relay;
// wallets that do not sign without sending, such as MetaMask, send it: eth_sendTransaction).
// What it reports to the page: {account, chainId, wallet, result: {id, ok, kind, value | error, code}}.
import { createStore } from "mipd";
import { createWalletClient, custom, numberToHex, stringToHex } from "viem";

const USER_REJECTED = 4001;
const UNSUPPORTED = new Set([4200, -32601, -32004]); // method not supported by this wallet
const UNKNOWN_CHAIN = 4902;

const state = { args: {}, wallets: [], chosen: null, client: null, account: null, chainId: null, busy: false,
  message: "", error: "", done: new Set() };

// ------------------------------------------------------------------ the Streamlit protocol
function post(type, data) {
  window.parent.postMessage({ isStreamlitMessage: true, type, ...data }, "*");
}
function report(result) {
  post("streamlit:setComponentValue", { dataType: "json", value: {
    account: state.account, chainId: state.chainId, wallet: state.chosen ? state.chosen.info.name : null,
    wallets: state.wallets.map((w) => w.info.name), result: result || null } });
}
let height = 0;
function resize() {
  const wanted = Math.ceil(document.documentElement.getBoundingClientRect().height) + 8;
  if (wanted !== height) { height = wanted; post("streamlit:setFrameHeight", { height }); }
}
new ResizeObserver(resize).observe(document.documentElement); // text wraps again when the frame's width changes

window.addEventListener("message", (event) => {
  if (event.data && event.data.type === "streamlit:render") {
    state.args = event.data.args || {};
    render();
  }
});

// ------------------------------------------------------------------ discovery
const store = createStore();
function discover() {
  const announced = store.getProviders();
  state.wallets = announced.length ? [...announced] : [];
  if (!state.wallets.length && window.ethereum) {
    state.wallets = [{ info: { uuid: "injected", name: "Injected wallet (window.ethereum)", rdns: "injected", icon: "" },
      provider: window.ethereum }];
  }
  render();
}
store.subscribe(discover);

// Every page has its own frame: a wallet connected on one page is picked up again (eth_accounts
// asks nothing of the user) on the next.
const REMEMBER = "heritage-wallet";
let restored = false;
async function restore() {
  if (restored || state.account) return;
  const rdns = window.localStorage.getItem(REMEMBER);
  const detail = rdns && state.wallets.find((w) => w.info.rdns === rdns);
  if (!detail) return;
  restored = true;
  use(detail);
  try {
    const accounts = await state.client.request({ method: "eth_accounts" });
    if (!accounts.length) return;
    state.account = accounts[0];
    state.chainId = await state.client.getChainId();
    report();
    render();
  } catch (err) { /* the wallet will ask again on Connect */ }
}

function rpcError(err) {
  const code = err && (err.code ?? (err.cause && err.cause.code));
  const text = (err && (err.shortMessage || err.details || err.message)) || String(err);
  return { code: typeof code === "number" ? code : null, text };
}

function use(detail) {
  state.chosen = detail;
  state.client = createWalletClient({ transport: custom(detail.provider) });
  detail.provider.on?.("accountsChanged", (accounts) => { state.account = accounts[0] || null; report(); render(); });
  detail.provider.on?.("chainChanged", (id) => { state.chainId = Number(id); report(); render(); });
}

async function connect(detail) {
  use(detail);
  state.error = "";
  try {
    const [account] = await state.client.requestAddresses();
    state.account = account;
    state.chainId = await state.client.getChainId();
    state.message = `Connected with ${detail.info.name}.`;
    window.localStorage.setItem(REMEMBER, detail.info.rdns);
  } catch (err) {
    const e = rpcError(err);
    state.error = e.code === USER_REJECTED ? "You declined the connection in your wallet; nothing was shared."
      : `The wallet did not connect: ${e.text}`;
  }
  report();
  render();
}

async function switchChain() {
  const chain = state.args.chain;
  state.error = "";
  try {
    await state.client.request({ method: "wallet_switchEthereumChain", params: [{ chainId: numberToHex(chain.id) }] });
  } catch (err) {
    const e = rpcError(err);
    if (e.code === UNKNOWN_CHAIN) {
      try {
        await state.client.request({ method: "wallet_addEthereumChain", params: [{ chainId: numberToHex(chain.id),
          chainName: chain.name, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: [chain.rpc] }] });
      } catch (err2) {
        const e2 = rpcError(err2);
        state.error = e2.code === USER_REJECTED ? "You declined adding the platform's chain; nothing was changed."
          : `The wallet could not add the chain: ${e2.text}`;
      }
    } else {
      state.error = e.code === USER_REJECTED ? "You declined the switch; the wallet stays on its chain and nothing is sent."
        : `The wallet could not switch chains: ${e.text}`;
    }
  }
  state.chainId = await state.client.getChainId();
  report();
  render();
}

// ------------------------------------------------------------------ requests
function txParams(tx, from) {
  const hex = (v) => numberToHex(BigInt(v));
  const out = { from, to: tx.to, data: tx.data, value: hex(tx.value || 0), gas: hex(tx.gas), nonce: hex(tx.nonce),
    chainId: hex(tx.chainId), type: "0x2" };
  if (tx.maxFeePerGas != null) out.maxFeePerGas = hex(tx.maxFeePerGas);
  if (tx.maxPriorityFeePerGas != null) out.maxPriorityFeePerGas = hex(tx.maxPriorityFeePerGas);
  return out;
}

async function carryOut(request) {
  state.busy = true;
  state.error = "";
  render();
  let result;
  try {
    if (request.kind === "sign") {
      const signature = await state.client.request({ method: "eth_signTypedData_v4",
        params: [state.account, JSON.stringify(request.typed_data)] });
      result = { id: request.id, ok: true, kind: "signature", value: signature };
    } else if (request.kind === "message") {
      const signature = await state.client.request({ method: "personal_sign",
        params: [stringToHex(request.message), state.account] });
      result = { id: request.id, ok: true, kind: "signature", value: signature };
    } else {
      const params = txParams(request.transaction, state.account);
      try {
        const raw = await state.client.request({ method: "eth_signTransaction", params: [params] });
        result = { id: request.id, ok: true, kind: "raw", value: typeof raw === "string" ? raw : raw.raw };
      } catch (err) {
        if (!UNSUPPORTED.has(rpcError(err).code)) throw err;
        const hash = await state.client.request({ method: "eth_sendTransaction", params: [params] });
        result = { id: request.id, ok: true, kind: "hash", value: hash };
      }
    }
  } catch (err) {
    const e = rpcError(err);
    result = { id: request.id, ok: false, code: e.code, error: e.code === USER_REJECTED
      ? "You rejected the request in your wallet. Nothing was signed and nothing was sent." : e.text };
    state.error = result.error;
  }
  state.busy = false;
  state.done.add(request.id);
  report(result);
  render();
}

// ------------------------------------------------------------------ the view
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => {
    if (k === "onclick") node.onclick = v; else if (v !== false && v != null) node.setAttribute(k, v);
  });
  children.flat().forEach((c) => node.append(c instanceof Node ? c : document.createTextNode(String(c))));
  return node;
}

function render() {
  const root = document.getElementById("root");
  root.replaceChildren();
  const chain = state.args.chain || {};
  const request = state.args.request;
  if (!state.account) {
    if (!state.wallets.length) {
      root.append(el("p", { class: "warn", "data-testid": "no-wallet" }, "No browser wallet found. Install an "
        + "EIP-1193 wallet (MetaMask, Rabby, Frame, …) and reload this page."));
    } else {
      root.append(el("p", {}, "Connect a wallet:"));
      state.wallets.forEach((w) => root.append(el("button", { "data-testid": "connect", "data-wallet": w.info.name,
        onclick: () => connect(w) }, w.info.icon ? el("img", { src: w.info.icon, alt: "" }) : "", `Connect ${w.info.name}`)));
    }
  } else {
    root.append(el("p", { "data-testid": "account" }, "Account ", el("code", {}, state.account), ` · chain ${state.chainId}`,
      state.chosen ? ` · ${state.chosen.info.name}` : ""));
    if (chain.id && state.chainId !== chain.id) {
      root.append(el("p", { class: "warn", "data-testid": "wrong-chain" }, `Your wallet is on chain ${state.chainId}; `
        + `Heritage Ledger is on chain ${chain.id} (${chain.name}). Nothing can be signed until you switch.`),
      el("button", { "data-testid": "switch", onclick: switchChain }, `Switch to ${chain.name}`));
    } else if (request && !state.done.has(request.id)) {
      root.append(el("p", { class: "summary" }, "Read what will happen (above), then confirm in your wallet:"),
        el("button", { "data-testid": "sign", disabled: state.busy ? "disabled" : false,
          onclick: () => carryOut(request) }, state.busy ? "Waiting for your wallet…" : request.label || "Sign in wallet"));
    }
  }
  if (state.error) root.append(el("p", { class: "error", "data-testid": "wallet-error" }, state.error));
  else if (state.message && !request) root.append(el("p", { class: "ok" }, state.message));
  resize();
}

window.addEventListener("load", () => {
  post("streamlit:componentReady", { apiVersion: 1 });
  discover();
  window.dispatchEvent(new Event("eip6963:requestProvider"));
  setTimeout(() => { discover(); restore(); }, 300); // window.ethereum may appear after load
});
