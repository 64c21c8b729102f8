"""An MCP client built on the official Python SDK (`mcp`), for the MCP server tests.

Usage: mcp_client.py <mcp url> <bearer token> <plan JSON>

The plan is a list of tool calls ({"name", "arguments"}). The script connects over Streamable
HTTP with the token, runs the initialize handshake, lists the tools, makes the calls in order and
prints one JSON object: the negotiated protocol version, the server's name, the tool names and
input schemas, and each call's outcome (a result, or the JSON-RPC error the SDK raised).
"""

import asyncio
import json
import sys

import httpx2
from mcp import ClientSession, MCPError
from mcp.client.streamable_http import streamable_http_client


async def main():
    url, token, plan = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    out = {"calls": []}
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                out["protocol"] = init.protocol_version if hasattr(init, "protocol_version") else init.protocolVersion
                out["server"] = init.server_info.name if hasattr(init, "server_info") else init.serverInfo.name
                listed = await session.list_tools()
                out["tools"] = [t.name for t in listed.tools]
                out["schemas"] = {
                    t.name: (t.input_schema if hasattr(t, "input_schema") else t.inputSchema) for t in listed.tools
                }
                await session.send_ping()
                for call in plan:
                    try:
                        r = await session.call_tool(call["name"], call.get("arguments", {}))
                        structured = getattr(r, "structured_content", None)
                        if structured is None:
                            structured = getattr(r, "structuredContent", None)
                        out["calls"].append(
                            {
                                "is_error": bool(getattr(r, "is_error", getattr(r, "isError", False))),
                                "structured": structured,
                                "text": r.content[0].text if r.content else None,
                            }
                        )
                    except MCPError as e:
                        out["calls"].append({"error": e.code, "message": e.message, "data": e.data})
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main())
