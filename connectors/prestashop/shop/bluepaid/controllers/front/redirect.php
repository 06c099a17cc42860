<?php
/**
 * Creates the order of the buyer's cart, awaiting payment, and sends the buyer to the hub.
 */
if (!defined('_PS_VERSION_')) {
    exit;
}

class BluepaidRedirectModuleFrontController extends ModuleFrontController
{
    public function postProcess()
    {
        $cart = $this->context->cart;
        $customer = new Customer((int) $cart->id_customer);
        if (!$this->module->active || !Bluepaid::isReady()
            || !$cart->id_customer || !$cart->id_address_delivery || !$cart->id_address_invoice
            || !Validate::isLoadedObject($customer)
        ) {
            // Back to the checkout: nothing was created.
            Tools::redirect('index.php?controller=order&step=1');

            return;
        }
        // The total is the cart's as PrestaShop computes it; the hub reads the order's own
        // total_paid from the webservice, never anything from this request.
        $this->module->validateOrder(
            (int) $cart->id,
            (int) Configuration::get(Bluepaid::WAITING_STATE),
            (float) $cart->getOrderTotal(true, Cart::BOTH),
            $this->module->displayName,
            null,
            [],
            (int) $this->context->currency->id,
            false,
            $customer->secure_key
        );
        $order = new Order((int) $this->module->currentOrder);
        $template = (string) Configuration::get(Bluepaid::PAY_URL);
        Tools::redirect(Bluepaid::payUrl($template, (int) $order->id, (string) $order->secure_key));
    }
}
