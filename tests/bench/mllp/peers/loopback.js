// Keeps a peer's listener on loopback: the npm servers below listen on every interface
// (node-hl7-server passes its bindAddress to listen() as 'hostname', which Node ignores), and
// the benchmark must not open a port to the network. Loaded before the server module.
'use strict'
const net = require('node:net')

const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  const first = args[0]
  if (typeof first === 'object' && first !== null && !Array.isArray(first)) {
    args[0] = { ...first, host: '127.0.0.1' }
  } else if (typeof first === 'number' || typeof first === 'string') {
    args[0] = { port: Number(first), host: '127.0.0.1' }
    if (typeof args[1] !== 'function') args.splice(1, 1)  // a host or backlog given positionally
  }
  return listen.apply(this, args)
}

// "NAME: listening on 127.0.0.1:PORT", then "NAME: ready", as the benchmark driver expects.
function announce (name, server) {
  process.stdout.write(`${name}: listening on 127.0.0.1:${server.address().port} (MLLP)\n${name}: ready\n`)
}

process.on('SIGTERM', () => process.exit(0))
process.on('SIGINT', () => process.exit(0))

module.exports = { announce }
