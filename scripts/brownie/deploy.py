"""Deploy the router and registry from a brownie console: `run("deploy")`."""

from brownie import HeritageRegistry, RoyaltyRouter, accounts  # type: ignore[attr-defined]


def main():  # type: ignore[no-untyped-def]
    owner = accounts[0]
    router = RoyaltyRouter.deploy({"from": owner})
    registry = HeritageRegistry.deploy(router.address, 500, {"from": owner})
    router.bindRegistry(registry.address, {"from": owner})
    print(f"RoyaltyRouter {router.address}\nHeritageRegistry {registry.address}")
    return registry, router
